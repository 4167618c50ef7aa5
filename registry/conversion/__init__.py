"""Conversion of pickle checkpoints to safetensors, in a sandboxed child process.

``worker`` is the child (``python -m registry.conversion.worker``): it imports no Django and loads
checkpoints with ``torch.load(weights_only=True)`` only. ``sandbox`` starts it with resource limits,
an empty environment, a fresh folder and, where the kernel allows, no network namespace.
"""
