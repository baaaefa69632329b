from alertflow.cli import main

main()
