from django import template

from accounts.owners import Owner

from .. import selectors

register = template.Library()


@register.simple_tag
def transactions_for(user, limit=20):
    """The user's latest transactions (account page)."""
    if user is None or not user.is_authenticated:
        return []
    return list(selectors.transaction_list_for_owner(owner=Owner(user=user))[:limit])
