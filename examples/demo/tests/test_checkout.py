from shop import Order, Product
from shop.checkout import Checkout
from shop.pricing import with_vat


def test_pay_adds_vat():
    checkout = Checkout()
    checkout.scan("tea", 250)
    assert checkout.pay() == 3.0


def test_with_vat_of_empty_order():
    assert with_vat(Order()) == 0.0


def test_coupon():
    checkout = Checkout()
    checkout.scan("cake", 1000)
    assert checkout.pay(coupon=10) == 10.8
    assert Product("x", 1).price() == 0.01
