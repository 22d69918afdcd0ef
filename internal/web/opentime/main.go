// Command opentime measures how soon the dashboard shows its overview: it
// signs in with a key in a headless Chromium, then opens the dashboard
// several times and prints, for each, the milliseconds from the page's
// start to the overview drawn (#view's data-since-open-ms).
//
//	go run ./internal/web/opentime [-opens 5] http://127.0.0.1:8080 KEY
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	opens := flag.Int("opens", 5, "how many times to open the dashboard once signed in")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: opentime [-opens N] BASE_URL API_KEY")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *opens); err != nil {
		fmt.Fprintln(os.Stderr, "opentime:", err)
		os.Exit(1)
	}
}

func run(base, key string, opens int) error {
	chromium := os.Getenv("OMNIKPI_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1440, 900))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelTimeout()
	ready := `(() => { const m = document.querySelector('#view');
		return m && m.dataset.view === 'overview' && m.dataset.state !== 'loading' && m.dataset.render ? m.dataset.sinceOpenMs || null : null; })()`
	var ms string
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("#key"), chromedp.SendKeys("#key", key),
		chromedp.Click("#key-submit"), chromedp.Poll(ready, &ms, chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	for i := 1; i <= opens; i++ {
		if err := chromedp.Run(ctx, chromedp.Navigate(base+"/"), chromedp.Poll(ready, &ms, chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
			return fmt.Errorf("open %d: %w", i, err)
		}
		fmt.Printf("open %d: overview drawn %s ms after the page opened\n", i, ms)
	}
	return nil
}
