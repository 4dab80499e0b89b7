from shop.models import Order

VAT = 0.2


def with_vat(order: Order) -> float:
    return round(order.total() * (1 + VAT), 2)


def discounted(order: Order, percent: int) -> float:
    return round(with_vat(order) * (100 - percent) / 100, 2)
