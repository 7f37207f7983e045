"""B2B: BusinessPayBill and BusinessBuyGoods, Working Account to Utility or Merchant
(ledger reference 9)."""
