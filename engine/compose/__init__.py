"""Compose projects: compose files loaded into typed records (``model``, ``load``) and run on the engine."""
