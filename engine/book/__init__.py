"""The book as the CRM holds it, against the new segmentation: moves from each account's
current tier (current), the change file for the CRM (changes), every CSM's book and a
rebalancing proposal (csms)."""
