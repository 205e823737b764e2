"""Webhooks: curators subscribe a URL; after each report run the service POSTs a signed summary."""
