"""Entry points: the command line, the HTTP API, the workers, and the one bootstrap that
builds the services from Settings."""
