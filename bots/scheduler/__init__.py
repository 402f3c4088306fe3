"""The daily excerpt: scheduling (APScheduler), claims and rotation (SQLAlchemy).

Rotation scope: by default every channel shares one rotation (`daily.shared_rotation = true`), so
on a given day all channels carry the same quote and every quote is posted once everywhere before
any repeats; a community that spans channels reads one quote of the day, not several. With
`shared_rotation = false` each channel has its own rotation (its own order), useful when channels
belong to different communities.
"""

from bots.scheduler.scheduler import DailyScheduler, DailyTarget, check_database
from bots.scheduler.store import Store, StoreError

__all__ = ["DailyScheduler", "DailyTarget", "Store", "StoreError", "check_database"]
