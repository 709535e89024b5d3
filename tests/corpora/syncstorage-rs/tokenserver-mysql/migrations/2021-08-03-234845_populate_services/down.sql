DELETE FROM services
      WHERE id=1 
         OR id=2;
