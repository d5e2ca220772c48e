"""The chat API: `llmchat.api.app.create_app(config)` builds the Flask app; `llmchat serve` runs it.

Nothing is imported here, so `llmchat --help` (which reads `llmchat.api.commands`) does not load Flask.
"""
