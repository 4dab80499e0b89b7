from . import pricing
from .models import Order, Product


class Checkout:
    def __init__(self) -> None:
        self.order = Order()

    def scan(self, name: str, cents: int) -> None:
        self.order.add(Product(name, cents))

    def pay(self, coupon: int = 0) -> float:
        if coupon:
            return pricing.discounted(self.order, coupon)
        return pricing.with_vat(self.order)
