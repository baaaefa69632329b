from alertflow.bench.cli import main

main()
