"""How good a mask is: pixel and object metrics against labels, and the plots of reports."""
