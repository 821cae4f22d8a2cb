"""Search: the query language users type into the search box."""
