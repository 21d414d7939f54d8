"""Talking to Adobe Experience Platform: IMS tokens, the gateway, Catalog/Schema Registry, batch and streaming."""
