"""CLI commands, one module per command or command group; each exposes `register(app)`.

Commands stay thin: parse options, call the library, print. No business logic here.
"""
