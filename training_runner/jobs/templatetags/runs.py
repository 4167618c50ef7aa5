"""Template filters of the run pages."""

from django import template

register = template.Library()


@register.filter
def metric(value) -> str:
    """A metric value as people read it: 4 significant digits for numbers, each part of a pair
    (rolling perplexity records ``[log-likelihood, words]``) likewise."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(metric(v) for v in value) + "]"
    return str(value)
