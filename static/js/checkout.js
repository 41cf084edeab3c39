/* Card payment with Stripe's Payment Element (only rendered when Stripe keys are configured). */
(function () {
  "use strict";
  var mount = document.getElementById("payment-element");
  var form = document.getElementById("card-form");
  if (!mount || !form || !window.Stripe) return;
  var stripe = window.Stripe(mount.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: mount.dataset.clientSecret, locale: document.documentElement.lang || "auto" });
  elements.create("payment").mount(mount);
  var button = document.getElementById("pay-card");
  var error = document.getElementById("card-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    error.hidden = true;
    // Stripe redirects back to the checkout page, which re-reads the PaymentIntent (a redirect is not a payment).
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: mount.dataset.returnUrl } })
      .then(function (result) {
        if (result.error) {
          error.textContent = result.error.message;
          error.hidden = false;
          button.disabled = false;
        }
      });
  });
})();
