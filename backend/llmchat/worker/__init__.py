"""The model worker: a registry of models, loading, a continuous-batching engine and an OpenAI-compatible server.

Heavy modules (torch, transformers, fastapi) are imported only by the modules that need them, so importing
`llmchat.models.registry` stays cheap.
"""
