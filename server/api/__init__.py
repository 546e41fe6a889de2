"""HTTP endpoints, one router per concern; the logic they call lives one level up."""
