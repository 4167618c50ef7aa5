"""The HF-compatible API: thin adapters from the huggingface_hub wire protocol to registry services."""
