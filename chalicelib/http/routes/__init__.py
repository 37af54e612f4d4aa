"""The API's routes, one module (one Blueprint) per capability; ``app.py`` registers them all."""
