from dataclasses import dataclass, field


@dataclass
class Product:
    name: str
    price_cents: int

    def price(self) -> float:
        return self.price_cents / 100


@dataclass
class Order:
    items: list[Product] = field(default_factory=list)

    def add(self, product: Product) -> "Order":
        self.items.append(product)
        return self

    def total(self) -> float:
        return sum(item.price() for item in self.items)
