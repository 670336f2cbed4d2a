"""Account history from a CRM's tables: quarterly replay events derived from subscription
start and end dates (and churn and ticket tables), and the starting portfolio they replay
from (docs/events.md, "Events from subscription history")."""
