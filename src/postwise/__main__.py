from postwise.cli import main

main()
