from django import template

register = template.Library()


@register.filter
def duration(seconds: int | float | None) -> str:
    """1h 05m, 12m, 45s: active time as people read it."""
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


@register.filter
def label(state: str) -> str:
    """in_progress -> in progress."""
    return str(state).replace("_", " ")
