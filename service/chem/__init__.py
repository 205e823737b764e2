"""Pure RDKit chemistry: standardization, identity keys, fingerprints, class rules, depiction.

Nothing in this package imports FastAPI or SQL; the web layer and the loader call it.
"""
