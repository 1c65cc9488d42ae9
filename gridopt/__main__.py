from gridopt.cli import main

main()
