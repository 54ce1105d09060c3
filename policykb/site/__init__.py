"""The published site: content -> Markdown pages (Jinja2) -> MkDocs (Material) -> static HTML."""
