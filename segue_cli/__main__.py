from segue_cli.main import main

main()
