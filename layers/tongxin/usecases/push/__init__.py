"""订阅消息 push: the outbox sender, subscription quotas, what did not arrive (docs/push.md)."""
from .sender import deliver, deliver_written, sweep
from .subscriptions import accept, problems, subscriptions

__all__ = ["accept", "deliver", "deliver_written", "problems", "subscriptions", "sweep"]
