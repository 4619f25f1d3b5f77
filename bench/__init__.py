"""`make bench`: segue against a model of the monolith it replaces and against the profile's lower bound."""
