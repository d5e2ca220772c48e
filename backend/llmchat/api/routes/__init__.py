"""Blueprints of the chat API."""
