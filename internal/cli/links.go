package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/store"
)

// runLinks makes and lists click-to-chat links: wa.me, m.me and ig.me
// links with a reference, so a chat started from an Instagram bio, a
// button on the site or a QR code counts as a touch with its source.
func runLinks(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		fmt.Fprintln(e.stderr, "Usage: omnikpi links create|list --workspace W [--channel whatsapp|facebook|instagram --to NUMBER|PAGE|USERNAME --source S [--medium M] [--campaign C] [--text T]] [--db F]")
		return errUsage
	}
	fs := newFlags(e, "links "+args[0], "--workspace W [flags]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "the workspace (required)")
	var link store.ChatLink
	fs.StringVar(&link.Channel, "channel", "whatsapp", "the chat the link opens: "+strings.Join(store.ChatLinkChannels, ", "))
	fs.StringVar(&link.To, "to", "", "the WhatsApp number in international format, the Facebook Page's name or id, or the Instagram username")
	fs.StringVar(&link.Source, "source", "", "where the link is placed, as a UTM source (instagram_bio, site_button, qr_poster …)")
	fs.StringVar(&link.Medium, "medium", "", "the UTM medium")
	fs.StringVar(&link.Campaign, "campaign", "", "the UTM campaign")
	fs.StringVar(&link.Text, "text", "", "WhatsApp: the message the chat opens with (the reference is added to it)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *workspace == "" {
		fmt.Fprintf(e.stderr, "omnikpi links %s: --workspace is required\n", args[0])
		return errUsage
	}
	if args[0] == "create" {
		link.Ref, link.Created = store.NewChatLinkRef(), time.Now().UTC().Truncate(time.Second)
		if err := link.Check(); err != nil {
			return fmt.Errorf("links create: --%w", err)
		}
	}
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		c = c.WithWorkspace(*workspace)
		if args[0] == "list" {
			links, err := c.Links(ctx)
			if err != nil {
				return err
			}
			for _, l := range links {
				printLink(e, l.Ref, l.Channel, l.Source, l.URL)
			}
			return nil
		}
		made, err := c.CreateLink(ctx, client.ChatLink{Channel: link.Channel, To: link.To, Source: link.Source,
			Medium: link.Medium, Campaign: link.Campaign, Text: link.Text})
		if err != nil {
			return err
		}
		printLink(e, made.Ref, made.Channel, made.Source, made.URL)
		return nil
	}
	open := openExistingWorkspace
	if args[0] == "create" {
		open = openWorkspace
	}
	s, ws, err := open(ctx, *db, *workspace)
	if err != nil {
		return err
	}
	defer s.Close()
	if args[0] == "list" {
		for _, l := range ws.ChatLinks {
			printLink(e, l.Ref, l.Channel, l.Source, l.URL())
		}
		return nil
	}
	ws.ChatLinks = append(ws.ChatLinks, link)
	if err := s.PutWorkspace(ctx, ws); err != nil {
		return err
	}
	if err := audit.Record(ctx, s, ws.Name, audit.LinkCreate, link.Ref, link); err != nil {
		return err
	}
	printLink(e, link.Ref, link.Channel, link.Source, link.URL())
	return nil
}

func printLink(e *env, ref, channel, source, url string) {
	fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", ref, channel, source, url)
}
