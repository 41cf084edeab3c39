"""Pages: plans (subscribe/cancel, price tables) and the checkout for one conversion."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.owners import owner_from_request
from accounts.selectors import plan_for_user, plan_list
from anclora.core.errors import ApplicationError
from anclora.core.templatetags.ui import plan_name

from . import pricing, selectors, services
from .providers import get_provider


def plans_page(request):
    user = request.user if request.user.is_authenticated else None
    tiers = pricing.tiers()
    context = {
        "plans": plan_list(),
        "current_plan": plan_for_user(user),
        "stripe_subscription": selectors.stripe_subscription_current(user=user) if user else None,
        "tiers": tiers,
        "size_tiers": [(name, info["max_size_mb"], info["price_multiplier"])
                       for name, info in tiers["size_tiers"].items()],
        "provider": get_provider(),
    }
    return render(request, "billing/plans.html", context)


@login_required
def subscribe_page(request):
    """GET: the summary of the chosen plan (price, limits, what changes) and a confirm button;
    POST: subscribe."""
    if request.method != "POST":
        plan = next((p for p in plan_list() if p.slug == request.GET.get("plan", "") and p.price_eur > 0), None)
        if plan is None:
            messages.error(request, _("Plan desconocido."))
            return redirect("billing:plans")
        return render(request, "billing/subscribe_confirm.html", {
            "plan": plan, "current_plan": plan_for_user(request.user), "provider": get_provider(),
        })
    try:
        sub = services.subscription_subscribe(user=request.user, plan_slug=request.POST.get("plan", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:plans")
    if sub.status == sub.Status.ACTIVE:
        messages.success(request, _("Suscripción activa: plan %(plan)s.") % {"plan": plan_name(sub.plan.name)})
    else:
        messages.info(request, _("Suscripción creada; el plan se aplicará cuando se confirme el pago."))
    return redirect("billing:plans")


@login_required
@require_POST
def cancel_page(request):
    try:
        services.subscription_cancel(user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("Suscripción cancelada: seguirá activa hasta el final del periodo."))
    return redirect("billing:plans")


def checkout_page(request, transaction_id):
    tx = services.transaction_get_for_owner(owner=owner_from_request(request), transaction_id=transaction_id)
    if tx.status == tx.Status.PENDING:
        tx = services.transaction_sync(transaction_id=tx.pk)
    stripe_js = None
    if tx.status == tx.Status.PENDING and settings.STRIPE_PUBLISHABLE_KEY and settings.STRIPE_SECRET_KEY:
        # Card payments with Stripe's Payment Element (Stripe.js must come from js.stripe.com).
        stripe_js = {"publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
                     "client_secret": services.transaction_client_secret(transaction_id=tx.pk),
                     "return_url": request.build_absolute_uri(reverse("billing:checkout", args=[tx.pk]))}
    rows = selectors.checkout_rows(tx=tx)
    return render(request, "billing/checkout.html", {
        "tx": tx, "provider": get_provider(), "stripe_js": stripe_js, "rows": rows,
        "paid_files": sum(1 for row in rows if row["item"] is not None)})


@require_POST
def checkout_pay_page(request, transaction_id):
    try:
        services.transaction_pay_test_card(owner=owner_from_request(request), transaction_id=transaction_id,
                                           card=request.POST.get("card", "visa"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        files = selectors.transaction_list_for_owner(owner=owner_from_request(request)).filter(
            pk=transaction_id).values_list("items", flat=True).count()
        messages.success(request, _("Pago completado. Ya puedes convertir el archivo.") if files <= 1 else
                         _("Pago completado. Ya puedes convertir los %(n)d archivos.") % {"n": files})
    return redirect("billing:checkout", transaction_id=transaction_id)
