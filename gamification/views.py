"""The rewards page (session auth): the same selectors and services as the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.selectors import user_email_verified
from anclora.core.errors import ApplicationError

from . import rules, selectors, services
from .forms import RedeemForm

PAGE_LEADERBOARD_LIMIT = 20


@login_required
def rewards_page(request):
    period = request.GET.get("period")
    period = period if period in selectors.PERIODS else "all_time"
    form = RedeemForm()
    status = 200
    if request.method == "POST":
        form = RedeemForm(request.POST)
        if form.is_valid():
            try:
                result = services.rewards_redeem_credits(user=request.user, points=form.cleaned_data["points"])
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _(
                    "Puntos canjeados exitosamente: %(points)d puntos → %(credits)d créditos."
                ) % {"points": result.points_redeemed, "credits": result.credits_awarded})
            return redirect(f"{request.path}?period={period}")
        status = 400
    request.user.refresh_from_db()
    email_verified = user_email_verified(user=request.user)
    profile = selectors.rewards_profile(user=request.user)
    challenges = selectors.challenges_with_progress(challenges=services.challenges_current(), user=request.user)
    context = {
        "profile": profile,
        "achievements": selectors.achievements_for(user=request.user),
        "challenges": challenges,
        "board": selectors.leaderboard(period=period, limit=PAGE_LEADERBOARD_LIMIT),
        "period": period,
        "periods": [("all_time", _("Histórico")), ("monthly", _("Este mes")), ("weekly", _("Esta semana"))],
        "form": form,
        "points_per_credit": rules.POINTS_PER_CREDIT,
        "email_verified": email_verified,
        "can_redeem": email_verified and request.user.total_points >= rules.MIN_REDEMPTION,
    }
    return render(request, "gamification/rewards.html", context, status=status)
