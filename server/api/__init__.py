"""HTTP routes, one module per resource group of API.md; thin: parse, authorise, call, shape."""
