"""Victims behind HTTP: a generic JSON endpoint (``http://…``), OpenAI-compatible LLM servers
(``openai:MODEL@BASE_URL``), and ``textrobust serve``, which puts any victim behind the generic endpoint."""
