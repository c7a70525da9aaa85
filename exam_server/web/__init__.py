"""Server-rendered pages (Chinese and English), with vendored static assets (no CDN)."""
