// A page of your own: proxy.ts has already recorded the click when a referral link brought the visitor.
export default function Home() {
  return (
    <main>
      <h1>Welcome to the shop</h1>
    </main>
  );
}
