DROP TABLE ciphers;
