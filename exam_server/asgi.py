"""ASGI entry point for uvicorn/gunicorn: settings come from the environment."""

from exam_server.app import create_app

app = create_app()
