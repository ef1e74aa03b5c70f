"""Points for the school's values: the values themselves and awards."""
