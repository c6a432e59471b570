"""One thin router per resource: parse the request, call the library, shape the answer."""
