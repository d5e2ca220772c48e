"""gunicorn settings for `llmchat serve` (bind comes from --host/--port or app.yaml).

gthread: every request gets a thread, so a long SSE stream holds one thread, not a whole worker.
Generation caps and routing caches live in each process: with workers > 1 every process counts on its own (rate
limits too, unless limits.rate_limit_storage in app.yaml is a redis:// URL).
"""

import os

worker_class = "gthread"
workers = int(os.environ.get("LLMCHAT_GUNICORN_WORKERS", "1"))
threads = int(os.environ.get("LLMCHAT_GUNICORN_THREADS", "32"))
# a reply may stream for minutes; gthread workers keep heart-beating while their threads stream
timeout = 120
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# gunicorn's default, with the client the app resolved (X-Forwarded-For from trusted proxies) after the peer
access_log_format = '%(h)s %({llmchat.client}e)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("LLMCHAT_LOG_LEVEL", "info").lower()
