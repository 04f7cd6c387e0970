"""A case in the shape provincial one-stop systems exchange with the national portal."""
