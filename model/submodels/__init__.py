"""Submodels of the Magog cohesion model, one module each, in the order of a weekly step
(see ``CohesionModel.step``)."""
