"""Marshmallow schemas: *In to load input, *Out to dump; shared by the API, sockets and webhooks."""
