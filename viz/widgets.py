"""A picture that reports where it was clicked (an ``<img>`` in a Vue template)."""

from __future__ import annotations

import base64

import ipyvue
import traitlets

TEMPLATE = """
<template>
  <img :src="src" :class="img_class" :alt="alt" draggable="false"
       style="width: 100%; height: auto; display: block; cursor: crosshair; max-width: 100%"
       @click="pick({x: $event.offsetX, y: $event.offsetY, w: $event.target.clientWidth,
                     h: $event.target.clientHeight, nw: $event.target.naturalWidth,
                     nh: $event.target.naturalHeight})" />
</template>
"""


class ClickImage(ipyvue.VueTemplate):
    """A PNG shown at the width of its column; a click calls ``handler(col, row)`` with
    the pixel of the picture clicked."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    src = traitlets.Unicode("").tag(sync=True)
    img_class = traitlets.Unicode("").tag(sync=True)  # (VueTemplate's own "css" is its style sheet)
    alt = traitlets.Unicode("").tag(sync=True)
    handler = traitlets.Any(None)

    def vue_pick(self, data):
        if self.handler is None or not data or not data.get("w"):
            return
        col = float(data["x"]) * float(data["nw"]) / float(data["w"])
        row = float(data["y"]) * float(data["nh"]) / float(data["h"])
        self.handler(col, row)


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
