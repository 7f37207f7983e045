"""M-Pesa Express (STK Push): process request, query, and the result callback."""
