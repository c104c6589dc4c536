"""Services: load rows, call the core, persist, commit. Web and CLI share them."""
