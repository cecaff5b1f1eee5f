"""Contract variance: remitted lines against contract prices, classified, with refunds and disputes drafted."""
